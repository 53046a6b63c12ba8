"""Getting an issue to subscribers without a server: .eml drafts, Bcc batches, mailto: links."""
