"""Mail infrastructure: SMTP or .eml delivery, and the outbox that sends each message exactly once."""
