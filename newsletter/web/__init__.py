"""The archive's pages, the editor's preview and screenshots, the signup box."""
