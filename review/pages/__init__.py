"""The pages, one module per area; each has a `router` that review.web includes."""
