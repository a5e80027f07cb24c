"""Public APT validity check for employers (issue 7).

An employer enters a dossier number and the student's date of birth and
learns whether the APT is valid, with its period, the employer's SIRET and
the student's masked name. The sync derives one record per accepted dossier
(`validity.store.refresh_validity`); `wif serve` answers from those records
only, never from the dossiers themselves, so the public side sees nothing
beyond what a record holds.
"""
