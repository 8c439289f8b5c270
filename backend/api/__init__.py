"""The API layer, above the domains: the schema assembled from the domain registry, the
request context and the /graphql router. Nothing below imports it."""
