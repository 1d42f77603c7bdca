from django.apps import AppConfig


class LovemapsConfig(AppConfig):
    name = "lovemaps"

    def ready(self) -> None:
        # The daily question leans toward the stalest love-map domain. Prompts sit
        # below love maps in the layering, so love maps register the lookup there.
        from lovemaps.selectors import stalest_domains
        from prompts import daily

        if stalest_domains not in daily.stalest_domain_providers:
            daily.stalest_domain_providers.append(stalest_domains)
