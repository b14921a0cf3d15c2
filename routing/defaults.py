"""Default data of classification and routing, loaded by data migrations and editable after."""

# Impact (rows: 1 extensive … 4 minor) × urgency (columns: 1 critical … 4 low) → priority.
# P1 is kept for extensive impact with work stopped or hampered (core business down); one
# user's problem is routine (P3/P4) however urgent it feels, and can be overridden with a reason.
PRIORITY_MATRIX: dict[int, tuple[str, str, str, str]] = {
    1: ("P1", "P1", "P2", "P3"),
    2: ("P1", "P2", "P3", "P3"),
    3: ("P2", "P3", "P3", "P4"),
    4: ("P3", "P3", "P3", "P4"),
}


def default_priority(impact: int, urgency: int) -> str:
    return PRIORITY_MATRIX[impact][urgency - 1]
