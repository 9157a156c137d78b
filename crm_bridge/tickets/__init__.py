"""Tickets: the service catalog, lifecycle (states/actions), the ticket service and routing,
the SLA clock and business calendar, ticket numbers, and the domain errors."""
