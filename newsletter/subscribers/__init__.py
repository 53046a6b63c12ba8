"""Who gets the newsletter: addresses checked and normalised, read from where they are kept."""
