"""Quality assurance: rules (pure), the monthly sample, repository functions, web pages."""
