"""People and organisation: users, organisation units, roles and support teams.

Its own app because every domain app (tickets, routing, sla, knowledge) refers to people and
teams, and none of them owns them.
"""
