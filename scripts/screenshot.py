"""Regenerate the README's screenshots (docs/*.svg) on the real embedded model:

    python scripts/screenshot.py
"""

import asyncio
from pathlib import Path

from probe_tui.app import ProbeApp
from probe_tui.backends.cached import CachedBackend
from probe_tui.backends.llama_cpp import LlamaCppBackend
from probe_tui.backends.models import resolve_model
from probe_tui.core.store import SessionStore

DOCS = Path(__file__).resolve().parents[1] / "docs"


async def main() -> None:
    backend = CachedBackend(LlamaCppBackend(resolve_model(None), n_ctx=2048))
    app = ProbeApp(backend, session="readme", store=SessionStore(":memory:"))
    async with app.run_test(size=(110, 32)) as pilot:
        while type(app.screen).__name__ != "ProbeScreen":
            await pilot.pause(0.1)
        screen = app.screen

        async def answered():
            while screen.session.answer_for(screen.item, screen.condition()) is None or screen.in_flight is not None:
                await pilot.pause(0.1)

        for key in ["n"] * 5:
            await answered()
            await pilot.press(key)
        await answered()
        screen.set_persona("cn_average")  # English text, so the picture reads without CJK fonts
        await answered()
        await pilot.press("o")
        while screen.session.order_check_for(screen.item, screen.condition()) is None:
            await pilot.pause(0.1)
        await pilot.pause(0.5)
        app.save_screenshot(filename="screenshot.svg", path=str(DOCS))
    backend.close()


if __name__ == "__main__":
    asyncio.run(main())
