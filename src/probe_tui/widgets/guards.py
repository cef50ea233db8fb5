"""Guards against Textual's own failures under bursts of keys, applied once when the app is imported.

Textual 8.2's OptionList pages (PageUp/PageDown) from its line cache, which is empty until the list has
a size: a page key that reaches an option list before its first layout raised `KeyError: 0` in
`OptionList._move_page` (the persona picker's list, and the command palette's CommandList, which is
Textual's). Such a key is dropped; the next one, after layout, pages as usual.

Its command palette, closed (Escape, Enter) while its search worker still runs, had that worker set
`_list_visible` or `_show_busy` on a palette whose widgets were gone: `NoMatches 'CommandList'` or
`'LoadingIndicator'` ended the app. The flags' watchers now do nothing on a palette without its list
and its loading indicator.

Its Header redraws its title from watchers of the app's and screen's title and sub_title, which raised
`NoMatches 'HeaderTitle'` when the sub_title changed while a header had not yet composed its title (a
screen mounting as the app quits). The header now skips that redraw; the next change draws it.

A screen the app switched to just before it quit still gets its Mount, with its widgets never composed
or already being removed: its on_mount asks `quitting(screen)` first and then does nothing."""

from __future__ import annotations

import functools
import inspect

from textual.command import CommandList, CommandPalette
from textual.css.query import NoMatches
from textual.dom import NoScreen
from textual.screen import Screen
from textual.widgets import Header, LoadingIndicator, OptionList
from textual.widgets._header import HeaderTitle


def _laid_out_first(move_page):
    @functools.wraps(move_page)
    def guarded(self: OptionList, direction) -> None:
        if not self._lines or (self.highlighted or 0) not in self._index_to_line:
            return  # no layout yet: nothing to page over
        move_page(self, direction)

    guarded.probe_tui_guard = True
    return guarded


def _has_its_widgets(palette: CommandPalette) -> bool:
    try:
        palette.query_one(CommandList), palette.query_one(LoadingIndicator)
    except NoMatches:
        return False  # the palette is closing: nothing left to show or hide
    return True


def _while_it_has_its_widgets(watch):
    if inspect.iscoroutinefunction(watch):  # run later, by call_next: check when it runs

        @functools.wraps(watch)
        async def guarded(self: CommandPalette) -> None:
            if _has_its_widgets(self):
                await watch(self)

    else:

        @functools.wraps(watch)
        def guarded(self: CommandPalette) -> None:
            if _has_its_widgets(self):
                watch(self)

    guarded.probe_tui_guard = True
    return guarded


def _title_once_composed(self: Header, _) -> None:
    """Header._on_mount, with a redraw that waits until the header has its title widget."""
    async def set_title() -> None:
        try:
            self.query_one(HeaderTitle).update(self.format_title())
        except (NoMatches, NoScreen):
            return  # not composed yet, or already gone

    for owner in (self.app, self.screen):
        self.watch(owner, "title", set_title)
        self.watch(owner, "sub_title", set_title)


_title_once_composed.probe_tui_guard = True


def quitting(screen: Screen) -> bool:
    """The app has quit, or this screen was never attached: its widgets are not there to show."""
    return not (screen.app.is_running and screen.is_attached)


def install() -> None:
    if not getattr(Header._on_mount, "probe_tui_guard", False):
        Header._on_mount = _title_once_composed
    if not getattr(OptionList._move_page, "probe_tui_guard", False):
        OptionList._move_page = _laid_out_first(OptionList._move_page)
    for watcher in ("_watch__list_visible", "_watch__show_busy"):
        if not getattr(getattr(CommandPalette, watcher), "probe_tui_guard", False):
            setattr(CommandPalette, watcher, _while_it_has_its_widgets(getattr(CommandPalette, watcher)))
