import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recalldesk.settings")
django_application = get_wsgi_application()

# Imported once Django is set up: it reads the public views and their models.
from recalldesk.public.fastpath import SurgePath  # noqa: E402

# The crisis page and the lookup answered from memory in front of Django (see fastpath.py).
application = SurgePath(django_application)
