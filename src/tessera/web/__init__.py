"""Hosted pages for people: sign-in, password reset, invitations, email verification, account."""
