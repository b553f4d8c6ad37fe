"""URLs of the workflow settings pages (filled by the settings slice)."""

urlpatterns: list = []
