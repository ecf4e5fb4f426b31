"""The customer messenger: web app, PWA (manifest, service worker, icons) and website widget.

Modules: ``pages`` (the router: shells, loader, manifest, service worker, icons, static files,
which :mod:`eyelevel.web.assets` keeps in memory, versioned by content), ``icons`` (the app icon
in PNG sizes). ``static/`` holds the ES modules and CSS, ``templates/`` the page shell, the
service worker and the widget loader.
"""
