"""What the public pages (the statistics site, the validity check) share: the DSFR layout, its assets and the
mandatory pages of a public website."""
