"""The agent workspace: queues, the ticket page, logging requests on behalf, bulk actions.

Its own app (URL and template namespace `workspace:`), separate from the requester `portal`,
the way pretix splits `control/` for staff from `presale/` for customers: agents need dense
lists, internal notes and every action the state machine allows them, requesters a calm page
about their own requests; keeping them apart keeps each side's permissions and templates simple.
It has no models of its own: it reads through `tickets.selectors` and writes through
`tickets.services`.
"""
