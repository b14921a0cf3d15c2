"""The requester portal: submit requests, follow their progress, answer, confirm and rate.

Its own app (and URL and template namespace, `portal:`), separate from the agent `workspace`,
the way pretix splits `presale/` for customers from `control/` for staff: the two sides have
different audiences, permissions and density, and neither imports the other's views. The portal
also owns the two small models only its pages need: satisfaction ratings and the fault /
recovery announcements shown in its banner.
"""
