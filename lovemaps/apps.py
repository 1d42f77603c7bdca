from django.apps import AppConfig


class LovemapsConfig(AppConfig):
    name = "lovemaps"

    def ready(self) -> None:
        # The daily question leans toward the stalest love-map domain. Prompts sit
        # below love maps in the layering, so love maps register the lookup there.
        from lovemaps.selectors.batch import (
            nudge_lovemap_catchup,
            nudge_lovemap_stale,
            stalest_domains,
        )
        from nuzzle.nudges.kinds import Kind, register
        from prompts.assignment import register_stalest_domain_provider

        register_stalest_domain_provider(stalest_domains)
        # Likewise nudges never import love maps: love maps say who is due a nudge.
        register(Kind.LOVEMAP_STALE, nudge_lovemap_stale)
        register(Kind.LOVEMAP_CATCHUP, nudge_lovemap_catchup)
