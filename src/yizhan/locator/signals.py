"""What the locator tells other apps without knowing them."""

from django.dispatch import Signal

# A visitor's list was sorted around a point they typed or shared (not a picked city):
# kwargs request, lat, lng (WGS-84), station_id (the nearest station's id). The planner keeps the
# point, rounded, as demand.
searched = Signal()
