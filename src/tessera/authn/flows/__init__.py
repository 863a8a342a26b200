"""Multi-step authentication flows (login → optional second factor → session), apart from HTTP."""
