"""Accounts (clinic admins): who may sign in, with which roles, and their practitioner details."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Slot,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.exc import SQLAlchemyError

from charting.models import Role, utcnow
from charting.models.db import Database
from charting.services import accounts
from charting.services.access import ROLE_LABELS
from charting.services.accounts import AccountInput
from charting.services.changes import Changes
from charting.services.errors import ServiceError, ValidationError
from charting.ui.forms import FieldForm, line, resize_within_screen
from charting.ui.login_dialog import message_label, password_line, show_message
from charting.ui.table_models import RowsModel

AccountIdRole = Qt.ItemDataRole.UserRole + 1
ACCOUNT_COLUMNS = ("Name", "Username", "Roles", "Active", "Last sign-in")
ROLE_ORDER = (Role.PRACTITIONER, Role.FRONT_DESK, Role.ADMIN)
ROLE_HINT = (
    "Practitioners chart and sign their visits. Front desk registers patients and books "
    "appointments, without clinical notes. Clinic admins manage accounts, backups, exports "
    "and the audit log."
)
_Index = QModelIndex | QPersistentModelIndex


def roles_text(roles: frozenset[Role] | set[Role]) -> str:
    """Roles in words, in a fixed order."""
    return ", ".join(ROLE_LABELS[r] for r in ROLE_ORDER if r in roles)


class AccountTableModel(RowsModel):
    """Every account (there are few: rows are read in one go)."""

    COLUMNS = ACCOUNT_COLUMNS

    def __init__(self, database: Database, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._database = database

    def refresh(self) -> None:
        """Read the accounts again."""
        with self._database.read() as session:
            rows = accounts.list_accounts(session)
        self.set_rows(rows)

    def account_id(self, row: int) -> int | None:
        """Id of the account shown at ``row``."""
        return self._rows[row].id if 0 <= row < len(self._rows) else None

    def row_of(self, account_id: int) -> int | None:
        """The row showing ``account_id``."""
        return next((i for i, r in enumerate(self._rows) if r.id == account_id), None)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == AccountIdRole:
            return row.id
        if role == Qt.ItemDataRole.ForegroundRole:
            return None if row.active else QBrush(QColor("#888888"))
        if role == Qt.ItemDataRole.ToolTipRole:
            if row.locked_until is not None and row.locked_until > utcnow():
                return (
                    "Waiting after wrong passwords until "
                    f"{row.locked_until.astimezone():%H:%M:%S} (a new password ends the wait)"
                )
            return None
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        last = (
            row.last_login_at.astimezone().strftime("%Y-%m-%d %H:%M")
            if row.last_login_at
            else "never"
        )
        return (
            row.display_name,
            row.username,
            roles_text(row.roles),
            "Yes" if row.active else "No (cannot sign in)",
            last,
        )[index.column()]


class AccountFormDialog(QDialog):
    """Add an account, or edit one: name, username, roles, practitioner details, password."""

    def __init__(
        self, database: Database, account_id: int | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("accountFormDialog")
        self.database = database
        self.account_id = account_id
        self.saved: AccountInput | None = None
        new = account_id is None
        self.setWindowTitle("Add account" if new else "Edit account")

        self.display_name = line("e.g. Grace Okonkwo", 200)
        self.username_edit = line("e.g. grace (letters, digits, dots)", 60)
        roles = QWidget()
        roles_row = QHBoxLayout(roles)
        roles_row.setContentsMargins(0, 0, 0, 0)
        self.role_boxes: dict[Role, QCheckBox] = {}
        for role in ROLE_ORDER:
            box = QCheckBox(ROLE_LABELS[role])
            box.setObjectName(f"role_{role.value}")
            roles_row.addWidget(box)
            self.role_boxes[role] = box
        roles_row.addStretch(1)
        hint = QLabel(ROLE_HINT)
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #555; font-size: 90%;")
        roles_holder = QWidget()
        roles_box = QVBoxLayout(roles_holder)
        roles_box.setContentsMargins(0, 0, 0, 0)
        roles_box.setSpacing(2)
        roles_box.addWidget(roles)
        roles_box.addWidget(hint)
        self.credentials = line("e.g. L.Ac., Dipl. Ac. (NCCAOM)", 100)
        self.licence_number = line("State or national licence number", 60)
        self.active = QCheckBox("Can sign in")
        self.active.setChecked(True)
        self.password = password_line(
            f"At least {accounts.MIN_PASSWORD} characters"
            if new
            else "Leave blank to keep the current password"
        )
        self.confirm = password_line("The same password again")
        self.form = FieldForm()
        self.form.add("display_name", "&Name *", self.display_name)
        self.form.add("username", "&Username *", self.username_edit)
        self.form.add("roles", "Roles *", roles_holder, roles)
        self.form.add("credentials", "&Credentials", self.credentials)
        self.form.add("licence_number", "&Licence number", self.licence_number)
        self.form.add("active", "Status", self.active)
        self.form.add("password", "&Password *" if new else "New &password", self.password)
        self.form.add("confirm", "&Repeat password", self.confirm)
        self.message = message_label("accountMessage")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Save).setObjectName("saveAccountButton")
        buttons.accepted.connect(self._on_buttons_accepted)
        buttons.rejected.connect(self.reject)
        self.role_boxes[Role.PRACTITIONER].toggled.connect(self._on_practitioner_toggled)

        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.setMinimumWidth(600)

        if account_id is not None:
            with database.read() as session:
                self._fill(accounts.account_form(session, account_id))
        self._on_practitioner_toggled(self.role_boxes[Role.PRACTITIONER].isChecked())
        self.display_name.setFocus()

    @classmethod
    def ask(
        cls, parent: QWidget | None, database: Database, account_id: int | None = None
    ) -> AccountInput | None:
        """Add (or edit) an account; return what was saved (without the password) or None."""
        dialog = cls(database, account_id, parent)
        dialog.exec()
        return dialog.saved

    def _fill(self, data: AccountInput) -> None:
        self.display_name.setText(data.display_name)
        self.username_edit.setText(data.username)
        for role, box in self.role_boxes.items():
            box.setChecked(role in data.roles)
        self.credentials.setText(data.credentials)
        self.licence_number.setText(data.licence_number)
        self.active.setChecked(data.active)

    def collect(self) -> AccountInput:
        """The form's current values."""
        roles = {role for role, box in self.role_boxes.items() if box.isChecked()}
        practitioner = Role.PRACTITIONER in roles
        return AccountInput(
            username=self.username_edit.text(),
            display_name=self.display_name.text(),
            roles=roles,
            password=self.password.text(),
            active=self.active.isChecked(),
            credentials=self.credentials.text() if practitioner else "",
            licence_number=self.licence_number.text() if practitioner else "",
        )

    @Slot(bool)
    def _on_practitioner_toggled(self, checked: bool) -> None:
        self.form.set_row_visible("credentials", checked)
        self.form.set_row_visible("licence_number", checked)

    @Slot()
    def _on_buttons_accepted(self) -> None:
        data = self.collect()
        new = self.account_id is None
        errors = accounts.validate_account(data, new=new)
        if data.password != self.confirm.text():
            errors["confirm"] = "The two passwords are not the same."
        self.form.show_errors(errors)
        show_message(self.message, "")
        if errors:
            return
        try:
            with self.database.write() as session:
                if self.account_id is None:
                    self.account_id, _changes = accounts.create_account(session, data)
                else:
                    accounts.update_account(session, self.account_id, data)
        except ValidationError as exc:
            self.form.show_errors(exc.errors)
            unplaced = {k: v for k, v in exc.errors.items() if k not in self.form.errors}
            show_message(self.message, " ".join(unplaced.values()))
            return
        except (ServiceError, SQLAlchemyError) as exc:
            show_message(self.message, str(exc))
            return
        data.password = ""
        self.saved = data
        self.accept()


class AccountsDialog(QDialog):
    """The list of accounts, with Add and Edit (objectName ``accountsDialog``)."""

    def __init__(self, database: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("accountsDialog")
        self.setWindowTitle("Accounts")
        self.database = database
        self.changed = False
        self.model = AccountTableModel(database, self)
        self.table = QTableView()
        self.table.setObjectName("accountList")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        intro = QLabel(
            "Everyone who uses Charting signs in with their own account, so the audit log "
            "shows who did what. Deactivate an account when someone leaves; it is kept for "
            "the record."
        )
        intro.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.add_button = buttons.addButton(
            "&Add account\u2026", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.add_button.setObjectName("addAccountButton")
        self.edit_button = buttons.addButton("&Edit\u2026", QDialogButtonBox.ButtonRole.ActionRole)
        self.edit_button.setObjectName("editAccountButton")
        self.status = QLabel()
        self.status.setObjectName("accountsStatus")
        self.status.setStyleSheet("color: #2e7d32;")
        buttons.rejected.connect(self.reject)
        self.add_button.clicked.connect(self.add_account)
        self.edit_button.clicked.connect(self.edit_account)
        self.table.doubleClicked.connect(self._on_table_double_clicked)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        resize_within_screen(self, 820, 440)
        self.model.refresh()
        self.table.selectionModel().selectionChanged.connect(self._on_table_selection_changed)
        self._on_table_selection_changed()

    @classmethod
    def ask(cls, parent: QWidget | None, database: Database) -> Changes | None:
        """Show the accounts; return a change summary if any account was added or changed."""
        dialog = cls(database, parent)
        dialog.exec()
        return Changes() if dialog.changed else None

    def selected_account_id(self) -> int | None:
        """The account selected in the table."""
        rows = self.table.selectionModel().selectedRows()
        return self.model.account_id(rows[0].row()) if rows else None

    def _select(self, account_id: int | None) -> None:
        row = self.model.row_of(account_id) if account_id is not None else None
        if row is not None:
            self.table.selectRow(row)

    @Slot()
    def add_account(self) -> None:
        """Ask for a new account and list it."""
        dialog = AccountFormDialog(self.database, None, self)
        dialog.exec()
        if dialog.saved is not None:
            self.changed = True
            self.model.refresh()
            self._select(dialog.account_id)
            self.status.setText(f"Account \u201c{dialog.saved.username}\u201d added.")

    @Slot()
    def edit_account(self) -> None:
        """Edit the selected account."""
        account_id = self.selected_account_id()
        if account_id is None:
            return
        saved = AccountFormDialog.ask(self, self.database, account_id)
        if saved is not None:
            self.changed = True
            self.model.refresh()
            self._select(account_id)
            self.status.setText(f"Account \u201c{saved.username}\u201d saved.")

    @Slot(QModelIndex)
    def _on_table_double_clicked(self, _index: QModelIndex) -> None:
        self.edit_account()

    @Slot()
    def _on_table_selection_changed(self) -> None:
        self.edit_button.setEnabled(self.selected_account_id() is not None)
