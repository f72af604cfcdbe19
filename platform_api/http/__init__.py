"""What every HTTP view shares: authentication, errors, parsers, filters, pages, the OpenAPI
document's refusals and the view helpers."""
