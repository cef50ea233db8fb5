"""The probe screen's ways to its child screens: the gauge, the models, compare, the answers and the
countries view. Each child reads the probe screen, and talks back with Messages or the app's condition."""

from __future__ import annotations

from ..messages import ShowCountries
from ..widgets.confirm import Confirm


class ProbeNavigation:
    def action_gauge(self) -> None:
        if self.session.baseline is None:
            self.notify("This instrument has no human baseline to gauge against.", severity="warning")
            return
        from .gauge import GaugeScreen

        self.app.push_screen(GaugeScreen(self))

    def action_models(self) -> None:
        from .models import ModelsScreen

        self.app.push_screen(ModelsScreen(self, on_choose=self.app.switch_model))

    def action_compare(self) -> None:
        from .compare import CompareScreen

        self.app.push_screen(CompareScreen(self))

    def action_session_answers(self) -> None:
        from .answers import AnswersScreen

        self.app.push_screen(AnswersScreen(self))

    def action_countries(self) -> None:
        if self.instrument.countries_view:
            from .countries import CountriesScreen

            self.app.push_screen(CountriesScreen(self))
            return

        countries = self.app.settings.countries_instrument  # VSM 2013 by default

        def switch(yes: bool | None) -> None:
            if yes:
                self.app.open_instrument(countries).post_message(ShowCountries())

        self.app.push_screen(Confirm(
            "The countries view asks VSM 2013 in 20 countries, each in its own language.",
            f"Switch to VSM 2013 on {self.backend.display_name}? The answers to {self.instrument.name} are kept (i switches back)."), switch)

    def on_show_countries(self) -> None:  # switched here by c on another instrument's screen
        self.call_after_refresh(self.action_countries)
