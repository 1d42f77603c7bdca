from django.apps import AppConfig


class PromptsConfig(AppConfig):
    name = "prompts"

    def ready(self) -> None:
        # Nudges sit below prompts in the layering and never import it: prompts tells
        # nudges who is eligible for the kinds it owns.
        from nuzzle.nudges.kinds import Kind, register
        from prompts import eligibility

        register(Kind.QUESTION_READY, eligibility.nudge_question_ready)
        register(Kind.PARTNER_ANSWERED, eligibility.nudge_partner_answered)
