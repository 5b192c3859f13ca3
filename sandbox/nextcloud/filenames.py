"""Nextcloud 30+ filename rules (`OC\\Files\\FilenameValidator` and the files app's Windows mode).

The lists are exposed verbatim in the OCS capabilities (`files.forbidden_filename_*`), so a client
can check names before it uploads, exactly as it would against a real server.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Names Nextcloud always refuses (config `forbidden_filenames`, default `.htaccess`).
DEFAULT_FORBIDDEN_NAMES = (".htaccess",)
#: `.filepart` is the config default; `.part` is appended unconditionally (used internally).
DEFAULT_FORBIDDEN_EXTENSIONS = (".filepart", ".part")
#: `\OCP\Constants::FILENAME_INVALID_CHARS`: always forbidden, plus control characters < 0x20.
ALWAYS_FORBIDDEN_CHARACTERS = ("\\", "/")
#: Added by "Windows compatible filenames" (`OCA\Files\Service\SettingsService`).
WINDOWS_BASENAMES = (
    "con", "prn", "aux", "nul",
    *(f"com{n}" for n in "0123456789¹²³"),
    *(f"lpt{n}" for n in "0123456789¹²³"),
)  # fmt: skip
WINDOWS_CHARACTERS = ("<", ">", ":", '"', "|", "?", "*")
WINDOWS_EXTENSIONS = (" ", ".")
#: `oc_filecache` keeps 250 bytes of a name; PHP's `isset($name[250])` counts bytes.
MAX_NAME_BYTES = 250


class InvalidFilenameError(ValueError):
    """A name Nextcloud would refuse; `message` is the text Nextcloud puts in `s:message`."""


@dataclass
class FilenameRules:
    """The filename policy of one server; `windows_compatible` mirrors the admin switch."""

    windows_compatible: bool = False
    forbidden_names: list[str] = field(default_factory=lambda: list(DEFAULT_FORBIDDEN_NAMES))

    @property
    def forbidden_basenames(self) -> list[str]:
        return list(WINDOWS_BASENAMES) if self.windows_compatible else []

    @property
    def forbidden_characters(self) -> list[str]:
        extra = list(WINDOWS_CHARACTERS) if self.windows_compatible else []
        return [*ALWAYS_FORBIDDEN_CHARACTERS, *extra]

    @property
    def forbidden_extensions(self) -> list[str]:
        extra = list(WINDOWS_EXTENSIONS) if self.windows_compatible else []
        return [*extra, *DEFAULT_FORBIDDEN_EXTENSIONS]

    def capabilities(self) -> dict[str, object]:
        """The `files` capability keys Nextcloud 30+ publishes for these rules."""
        return {
            "$comment": '"blacklisted_files" is deprecated as of Nextcloud 30, '
            'use "forbidden_filenames" instead',
            "blacklisted_files": list(self.forbidden_names),
            "forbidden_filenames": list(self.forbidden_names),
            "forbidden_filename_basenames": self.forbidden_basenames,
            "forbidden_filename_characters": self.forbidden_characters,
            "forbidden_filename_extensions": self.forbidden_extensions,
            "windows_compatible_filenames": self.windows_compatible,
        }

    def validate(self, name: str) -> None:
        """Raise `InvalidFilenameError` if Nextcloud would refuse `name` (one path segment)."""
        trimmed = name.strip()
        if not trimmed:
            raise InvalidFilenameError("Empty filename is not allowed")
        if trimmed in (".", ".."):
            raise InvalidFilenameError("Dot files are not allowed")
        if len(name.encode("utf-8")) > MAX_NAME_BYTES:
            raise InvalidFilenameError("Filename is too long")
        # Nextcloud's clients refuse surrounding spaces (Windows mode forbids the trailing one
        # server-side); the sandbox always refuses both so a connector never relies on them.
        if name.endswith(" "):
            raise InvalidFilenameError('Filenames must not end with " ".')
        if name.startswith(" "):
            raise InvalidFilenameError('Filenames must not start with " ".')
        self._check_forbidden_name(name)
        self._check_extension(name)
        self._check_characters(name)

    def _check_forbidden_name(self, name: str) -> None:
        lowered = name.lower()
        if lowered in self.forbidden_names:
            raise InvalidFilenameError(f'"{lowered}" is a forbidden file or folder name.')
        # The basename runs to the first dot not in first position (".con" is a hidden file).
        dot = lowered.find(".", 1)
        basename = lowered if dot == -1 else lowered[:dot]
        if basename in self.forbidden_basenames:
            raise InvalidFilenameError(
                f'"{lowered}" is a forbidden prefix for file or folder names.'
            )

    def _check_extension(self, name: str) -> None:
        lowered = name.lower()
        for extension in self.forbidden_extensions:
            if lowered.endswith(extension):
                if extension.startswith("."):
                    raise InvalidFilenameError(f'"{extension}" is a forbidden file type.')
                raise InvalidFilenameError(f'Filenames must not end with "{extension}".')

    def _check_characters(self, name: str) -> None:
        if any(ord(char) < 0x20 for char in name):
            raise InvalidFilenameError("Invalid character in path")
        for char in self.forbidden_characters:
            if char in name:
                raise InvalidFilenameError(f'"{char}" is not allowed inside a file or folder name.')
