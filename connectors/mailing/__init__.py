"""What every mailing-list connector shares: member items, the consent rules they carry."""
