"""A stack of pages whose size needs are those of the page shown, not of every page in it."""

from __future__ import annotations

from PySide6.QtCore import QSize, Slot
from PySide6.QtWidgets import QSizePolicy, QStackedWidget, QWidget


class PageStack(QStackedWidget):
    """A ``QStackedWidget`` that asks for the room of its current page only.

    Qt's stacked widget asks for the largest minimum of all its pages, so a hidden page (a
    patient with a very long name, a visit screen) kept the window wide after the person had
    left it. Here hidden pages are laid out with an ignored size policy and the stack's hints
    are the current page's.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.currentChanged.connect(self._on_self_current_changed)

    def addWidget(self, widget: QWidget) -> int:
        """Add a page (hidden pages do not count towards the stack's size)."""
        index = super().addWidget(widget)
        self._on_self_current_changed(self.currentIndex())
        return index

    def sizeHint(self) -> QSize:
        page = self.currentWidget()
        return page.sizeHint() if page is not None else super().sizeHint()

    def minimumSizeHint(self) -> QSize:
        page = self.currentWidget()
        return page.minimumSizeHint() if page is not None else super().minimumSizeHint()

    @Slot(int)
    def _on_self_current_changed(self, index: int) -> None:
        ignored = QSizePolicy.Policy.Ignored
        for i in range(self.count()):
            page = self.widget(i)
            if page is None:
                continue
            policy: QSizePolicy = page.property("_pageStackPolicy") or page.sizePolicy()
            if page.property("_pageStackPolicy") is None:
                page.setProperty("_pageStackPolicy", policy)
            page.setSizePolicy(policy if i == index else QSizePolicy(ignored, ignored))
        self.updateGeometry()
