"""The fast path: a lean ASGI application in front of Django for the hot API routes.

`tessera.fastpath.app.FastPath` answers `POST /api/v1/authz/check`, `.../authz/check/batch`,
`GET /api/v1/auth/me` and `POST /api/v1/auth/refresh` itself, through the same middlewares and
the same django-ninja operations as Django — without the URL resolver, the WSGI bridge and the
middlewares that act only on cookies, pages and static files. Everything else (and any request
carrying a cookie) goes to the fallback application. docs/decisions/0020-fast-path.md.
"""
