"""The loaded pages of a running app; with ``auto_reload`` an edited file shows on the next
request."""

from __future__ import annotations

from pathlib import Path

from kit.pages.schema import Page
from kit.pages.validation import PageConfigError
from kit.pages.validation import _stamp
from kit.pages.validation import load_pages
from kit.pages.validation import page_files


class PageRegistry:
    """The loaded pages; with ``auto_reload`` an edited file shows on the next request."""

    def __init__(self, pages_dir: Path, static_dir: Path | None, auto_reload: bool) -> None:
        self.pages_dir = Path(pages_dir)
        self.static_dir = static_dir
        self.auto_reload = auto_reload
        self._signature: tuple = ()
        self._pages: dict[str, Page] = {}
        self.errors: list[PageConfigError] = []
        self.inline_styles: tuple[str, ...] = ()
        self.reload()

    def _current_signature(self) -> tuple:
        return tuple((path.name, *_stamp(path)) for path in page_files(self.pages_dir))

    def reload(self) -> None:
        self._signature = self._current_signature()
        self._pages, self.errors = load_pages(self.pages_dir, self.static_dir)
        themes = {c.theme.css for page in self._pages.values() for _, c in page.contents()}
        self.inline_styles = tuple(sorted(themes))

    def _refresh(self) -> None:
        if self.auto_reload and self._current_signature() != self._signature:
            self.reload()

    @property
    def pages(self) -> dict[str, Page]:
        """Every page by slug: a file added, edited or removed while the app runs shows here on
        the next request (with ``auto_reload``), on the dashboard as on the visitor side."""
        self._refresh()
        return self._pages

    def get(self, slug: str) -> Page | None:
        """Return the page for ``slug``, reloading edited files first in development."""
        return self.pages.get(slug)

    def errors_for(self, slug: str) -> list[PageConfigError]:
        """Errors of the file behind ``slug`` (shown instead of the page in development)."""
        self._refresh()
        return [e for e in self.errors if e.file == f"{slug}.toml"]

    def all(self) -> list[Page]:
        return list(self.pages.values())
