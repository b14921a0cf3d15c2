"""Classification and routing: the desk sorts, prioritises and dispatches new tickets itself."""
