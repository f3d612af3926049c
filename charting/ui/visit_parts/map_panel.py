"""The map column: view, region and click-mode buttons above the body map."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from charting.bodymap import BodyMap
from charting.bodymap.presets import REGION_PRESETS
from charting.services.pain_measures import AreaShape
from charting.ui.bodymap import BodyMapView

#: Short button titles for the views (other views show their model title).
VIEW_BUTTONS: dict[str, str] = {
    "posterior": "Back && legs",
    "lateral_leg": "Lateral leg",
    "medial_leg": "Medial leg",
    "anterior": "Front",
}
#: Region presets on F5, F7, F8, F9 (F2-F4 choose what a click places; F6 is the pain drawing).
REGION_KEYS = ("F5", "F7", "F8", "F9")
MODES = (
    ("point", "Point", "F2"),
    ("ashi", "Ashi", "F3"),
    ("cupping", "Cup", "F4"),
)
#: Where a visit's map opens: the low back and buttock, where back pain is charted.
DEFAULT_REGION = "low_back"


def _tool(text: str, name: str, tip: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setCheckable(True)
    button.setObjectName(name)
    button.setToolTip(tip)
    return button


class MapPanel(QWidget):
    """The body map with its buttons: one per view of the model (Ctrl+1 …), one per region
    preset the view offers (F5, F7, F8, F9), and what a click places (F2 point, F3 ashi, F4 cup).

    The buttons come from the model (its views) and from the region presets, so a view or
    preset added there appears here with its key."""

    def __init__(self, bodymap: BodyMap, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mapPanel")
        self.map = BodyMapView(bodymap, default_region=DEFAULT_REGION)
        self.view_ids = list(bodymap.views)
        self.view_keys = {vid: f"Ctrl+{i + 1}" for i, vid in enumerate(self.view_ids)}
        self.view_buttons = QButtonGroup(self)
        views = QHBoxLayout()
        views.setSpacing(2)
        for i, vid in enumerate(self.view_ids):
            title = VIEW_BUTTONS.get(vid, bodymap.views[vid].title)
            plain = title.replace("&&", "&")
            button = _tool(title, f"view_{vid}", f"{plain} ({self.view_keys[vid]})")
            self.view_buttons.addButton(button, i)
            views.addWidget(button)
        views.addStretch(1)
        self.mode_buttons = QButtonGroup(self)
        for i, (mode, title, key) in enumerate(MODES):
            button = _tool(
                title, f"mode_{mode}", f"Click places: {title.lower()} ({key}; Shift+click = ashi)"
            )
            self.mode_buttons.addButton(button, i)
            views.addWidget(button)
        self.mode_buttons.button(0).setChecked(True)
        regions = QHBoxLayout()
        regions.setSpacing(2)
        zoom = QLabel("Zoom:")
        zoom.setStyleSheet("color: #555;")
        regions.addWidget(zoom)
        self.region_buttons = QButtonGroup(self)
        self.region_buttons.setExclusive(False)
        self.region_keys: dict[str, str] = {}
        for i, preset in enumerate(REGION_PRESETS):
            key = REGION_KEYS[i] if i < len(REGION_KEYS) else ""
            self.region_keys[preset.id] = key
            plain = preset.title.replace("&&", "&")
            button = _tool(preset.title, f"region_{preset.id}", f"{plain} ({key})")
            self.region_buttons.addButton(button, i)
            regions.addWidget(button)
        regions.addStretch(1)
        # The visit's pain drawing laid under the points while charting them.
        # One button (its menu holds "Dimmed"), so the row stays narrow on a laptop screen.
        self.pain_shown = _tool(
            "Pain", "mapPainShown", "Show the pain drawing under the points (menu: dimmed or not)"
        )
        self.pain_shown.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        menu = QMenu(self.pain_shown)
        self.pain_dimmed = menu.addAction("Dimmed behind the points")
        self.pain_dimmed.setObjectName("mapPainDimmed")
        self.pain_dimmed.setCheckable(True)
        self.pain_dimmed.setChecked(True)
        self.pain_dimmed.setEnabled(False)
        self.pain_shown.setMenu(menu)
        regions.addWidget(self.pain_shown)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(views)
        layout.addLayout(regions)
        layout.addWidget(self.map, 1)
        self.view_buttons.idClicked.connect(self._on_view_buttons_id_clicked)
        self.mode_buttons.idClicked.connect(self._on_mode_buttons_id_clicked)
        self.region_buttons.idClicked.connect(self._on_region_buttons_id_clicked)
        self.pain_shown.toggled.connect(self._on_pain_toggled)
        self.pain_dimmed.toggled.connect(self._on_pain_toggled)
        self.map.view_changed.connect(self._on_map_view_changed)
        self.map.region_changed.connect(self._on_map_region_changed)
        self._on_map_view_changed(self.map.view_id)
        self._on_map_region_changed(self.map.region)

    def set_view(self, view_id: str) -> None:
        """Show another view of the body."""
        self.map.set_view(view_id)

    def set_mode(self, mode: str) -> None:
        """Choose what a plain click places: "point", "ashi" or "cupping"."""
        self.map.set_mode(mode)
        for i, (name, _title, _key) in enumerate(MODES):
            if name == mode:
                self.mode_buttons.button(i).setChecked(True)

    def zoom_to(self, preset_id: str) -> None:
        """Zoom the map to a region preset (when the view offers it)."""
        self.map.zoom_to_region(preset_id)

    def set_editable(self, editable: bool) -> None:
        """Enable the click-mode buttons only where clicks place marks."""
        for button in self.mode_buttons.buttons():
            button.setEnabled(editable)

    def show_pain(self, areas: list[AreaShape]) -> None:
        """Give the map the visit's pain drawing (shown as the Pain and Dim buttons say)."""
        self.pain_shown.setEnabled(bool(areas))
        self.map.set_pain(areas)

    @Slot(bool)
    def _on_pain_toggled(self, _checked: bool) -> None:
        shown = self.pain_shown.isChecked()
        self.pain_dimmed.setEnabled(shown)
        self.map.set_pain(self.map.pain_areas, shown, self.pain_dimmed.isChecked())

    @Slot(int)
    def _on_view_buttons_id_clicked(self, index: int) -> None:
        self.map.set_view(self.view_ids[index])

    @Slot(int)
    def _on_mode_buttons_id_clicked(self, index: int) -> None:
        self.map.set_mode(MODES[index][0])

    @Slot(int)
    def _on_region_buttons_id_clicked(self, index: int) -> None:
        self.map.zoom_to_region(REGION_PRESETS[index].id)
        self._on_map_region_changed(self.map.region)

    @Slot(str)
    def _on_map_view_changed(self, view_id: str) -> None:
        self.view_buttons.button(self.view_ids.index(view_id)).setChecked(True)
        offered = {p for p, _ in self.map.region_presets()}
        for i, preset in enumerate(REGION_PRESETS):
            self.region_buttons.button(i).setEnabled(preset.id in offered)

    @Slot(str)
    def _on_map_region_changed(self, preset_id: str) -> None:
        for i, preset in enumerate(REGION_PRESETS):
            self.region_buttons.button(i).setChecked(preset.id == preset_id)
