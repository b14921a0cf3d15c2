"""Closing the loop (PRODUCT.md §8): what the desk learns after a ticket is closed.

Its own app because ratings, satisfaction surveys by link, return visits (回访) and quality
inspection (质检) are one concern with their own people (requesters answering, the front office
calling back, QA inspectors scoring) and their own periodic jobs; the portal and the workspace
only render what this app stores. It reacts to the ticket core (a closed ticket gets a survey)
through `tickets/wiring.py`, and calls only public ticket services.
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Feedback and quality")
