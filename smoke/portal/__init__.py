"""The Management Portal in a real browser: sign-in, the portal's page knowledge, screenshots and its fixtures."""
