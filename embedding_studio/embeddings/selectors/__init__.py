"""Category selectors: which of the categories nearest to a query are confident matches."""
