"""The ticket core: the ticket, its lifecycle state machine, its operation log, intake and the
services every channel and every other app goes through. Imports no other domain app."""
