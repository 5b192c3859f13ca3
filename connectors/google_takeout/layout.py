"""Where Drive is inside an export, and where each of its entries belongs in the copy.

Takeout names its product folders in the account's language, and the two kinds of export lay
Drive out differently (docs/decisions/0470-takeout-layouts.md):

- a personal Takeout: `Takeout/Drive/<My Drive's content>`;
- a Google Workspace export (the admin's Data Export): `Takeout/Drive/My Drive/…`, Drive for
  desktop backups as `Takeout/Drive/<computer name>/…`, the trash as `Drive/Trash/…`, items
  without a visible parent as `Drive/Unorganized/…`, and metadata files beside them. Backups go
  to `Computers/<name>/…` and Unorganized to `Orphans/…`, as the `google_drive` source places
  the same items.

An export whose Drive folder has a name this module does not know is refused with the names it
found and the names it expects (never "nothing to do"), and `drive_folder` names it by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from migrate.errors import FatalError
from migrate.i18n import _

#: The Drive product folder under Takeout/, as Google names it in the account's language.
DRIVE_PRODUCTS = ("Drive", "Google Drive")
#: "My Drive" as the Drive interface names it, per language (Drive's own translations); old
#: exports of some languages used it as the product folder too.
MY_DRIVE = ("My Drive", "Mon Drive", "Meine Ablage", "Mi unidad", "Il mio Drive", "Meu Drive",
            "O meu disco", "Mijn Drive", "Mój dysk", "Můj disk", "Min enhet", "Mit drev",
            "Oma Drive", "Drive'ım", "Мой диск", "Мій диск", "マイドライブ", "내 드라이브",
            "我的云端硬盘", "我的雲端硬碟")
TRASH = ("Trash", "Bin", "Corbeille", "Papierkorb", "Papelera", "Cestino", "Lixeira",
         "Lixo", "Prullenbak", "Kosz", "Koš", "Papperskorg", "Papirkurv", "Roskakori",
         "Çöp Kutusu", "Корзина", "Кошик", "ゴミ箱", "휴지통", "回收站", "垃圾桶")
UNORGANIZED = ("Unorganized", "Unorganised")
#: Where Drive for desktop backups and items without a visible parent go in the copy: the
#: names the `google_drive` source gives them, so both sources lay a Drive out alike.
COMPUTERS, ORPHANS = "Computers", "Orphans"


def _folded(names: tuple[str, ...]) -> dict[str, str]:
    return {name.casefold(): name for name in names}


@dataclass(frozen=True)
class Placement:
    """Where an export entry goes: its path in the copy, or None when it is not Drive."""

    path: str | None
    in_trash: bool = False
    at_drive_root: bool = False  # directly in the Drive folder (export metadata lives there)


class Layout:
    """The Drive folder of one export and how its entries map to paths in the copy."""

    def __init__(self, drive: str, workspace: bool) -> None:
        self.drive = drive.strip("/")
        self.workspace = workspace

    def place(self, name: str, is_folder: bool) -> Placement:
        """`name` is relative to Takeout/."""
        prefix = self.drive + "/"
        if not name.startswith(prefix):
            return Placement(None)
        inside = name[len(prefix):].strip("/")
        if not inside:
            return Placement(None)
        if not self.workspace:
            return Placement(inside, at_drive_root="/" not in inside)
        top, _sep, rest = inside.partition("/")
        folded = top.casefold()
        if not rest and not is_folder:
            return Placement(inside, at_drive_root=True)  # Workspaces.json and the like
        if folded in _folded(MY_DRIVE):
            return Placement(rest or None)
        if folded in _folded(TRASH):
            return Placement(f"{top}/{rest}" if rest else None, in_trash=True)
        if folded in _folded(UNORGANIZED):
            return Placement(f"{ORPHANS}/{rest}" if rest else ORPHANS)
        return Placement(f"{COMPUTERS}/{inside}")


def find_layout(top_names: set[str], children: dict[str, set[str]], explicit: str | None,
                where: str) -> Layout:
    """The layout of an export whose Takeout/ holds `top_names` (folders and files), with
    `children[top]` the names directly under each; `explicit` is the `drive_folder` option."""
    if explicit:
        drive = explicit.strip("/")
        first = drive.split("/")[0]
        if first not in top_names:
            raise FatalError(_(
                "{where} has no folder '{drive}' (drive_folder); it holds: {found}").format(
                    where=where, drive=drive, found=_list(top_names)))
        return Layout(drive, _is_workspace(children.get(drive, set())))
    products = _folded(DRIVE_PRODUCTS) | _folded(MY_DRIVE)
    found = sorted(name for name in top_names if name.casefold() in products)
    if not found:
        raise FatalError(_(
            "{where} holds no Drive folder: found {found}; expected one of {expected}. If your "
            "export is in a language whose Drive folder has another name, give its name as "
            "'drive_folder' in the connection").format(
                where=where, found=_list(top_names),
                expected=", ".join(DRIVE_PRODUCTS + MY_DRIVE[:3]) + "…"))
    if len(found) > 1:
        raise FatalError(_(
            "{where} holds several folders that could be Drive: {found}; give the one to copy "
            "as 'drive_folder' in the connection").format(where=where, found=", ".join(found)))
    return Layout(found[0], _is_workspace(children.get(found[0], set())))


def _is_workspace(names: set[str]) -> bool:
    return any(name.casefold() in _folded(MY_DRIVE) for name in names)


def _list(names: set[str]) -> str:
    return ", ".join(f"'{name}'" for name in sorted(names)) if names else _("nothing")
