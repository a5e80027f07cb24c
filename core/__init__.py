"""The application core: settings, database, models, migrations, job runs, clock.

Imported by every other package; imports none of them.
"""
