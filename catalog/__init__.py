"""The service catalogue and taxonomy that tickets refer to: request types, the problem-category
tree, and the organisation's information systems with their modules and owning teams.

Its own app because the ticket core must point at these rows while `routing` (which decides
with them) must not be imported by the core; administrators edit all of it in the admin.
"""
