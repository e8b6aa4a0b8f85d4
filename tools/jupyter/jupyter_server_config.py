"""Jupyter server settings for ``make lab``, which puts this folder on ``JUPYTER_CONFIG_PATH``
(your own Jupyter configuration still applies).

The Lab's root is the repository, so that ``solutions/`` and ``chapters/`` can be opened next to
your working copies in ``my-notebooks/``. ``chapters/`` holds the notebooks as shipped; the
course's tests compare it with ``solutions/``. So here it is read-only: JupyterLab shows its
notebooks as read-only and offers "Save As", and the server refuses to save, rename or delete
anything in it, with a message that says where your copy is.
"""
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado.web import HTTPError

SHIPPED = "chapters"
MESSAGE = ("chapters/ holds the notebooks as shipped and is read-only in make lab, so that the course's "
           "tests stay green. Your copy of this notebook is in my-notebooks/. To keep changes made here, "
           "use File > Save Notebook As... and save into my-notebooks/.")


def is_shipped(path: str) -> bool:
    """True for anything inside chapters/ (not for the folder itself), however the path is spelled
    (``./chapters/x``, ``my-notebooks/../chapters/x``)."""
    parts: list[str] = []
    for part in str(path).replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return len(parts) >= 2 and parts[0] == SHIPPED


class CourseContentsManager(AsyncLargeFileManager):
    """The default contents manager, with chapters/ read-only."""

    async def get(self, path, content=True, type=None, format=None, **kwargs):
        model = await super().get(path, content=content, type=type, format=format, **kwargs)
        if is_shipped(path):
            model["writable"] = False
        return model

    async def save(self, model, path=""):
        if is_shipped(path):
            raise HTTPError(403, MESSAGE)
        return await super().save(model, path)

    async def rename_file(self, old_path, new_path):
        if is_shipped(old_path) or is_shipped(new_path):
            raise HTTPError(403, MESSAGE)
        return await super().rename_file(old_path, new_path)

    async def delete_file(self, path):
        if is_shipped(path):
            raise HTTPError(403, MESSAGE)
        return await super().delete_file(path)


c = get_config()  # noqa: F821  (provided by Jupyter when it loads this file)
c.ServerApp.contents_manager_class = CourseContentsManager
