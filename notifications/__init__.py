"""E-mails to applicants, employers and agents, from the tables the sync fills.

facts (read the tables) → events (what is due, pure) → outbox (exactly once)
→ contexts + render (typed Jinja2 templates) → mailer (SMTP or .eml files).
The daily agent digest (digest.py) goes through the same outbox.
"""
