"""Event images in Azure Blob Storage (``azure-storage-blob``, async client).

In Azure the app's managed identity signs in (``DefaultAzureCredential``; the Bicep grants it
Storage Blob Data Contributor); locally a connection string reaches Azurite. Blob names are
content-addressed, so every blob is written once and served as immutable.
"""

from __future__ import annotations

import asyncio
import contextlib

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import ContentSettings
from azure.storage.blob.aio import BlobServiceClient

from shared.settings import Settings

IMMUTABLE = "public, max-age=31536000, immutable"


class BlobImages:
    def __init__(self, settings: Settings) -> None:
        self._container_name = settings.image_container
        self._client: BlobServiceClient | None = None
        self._settings = settings
        self._ready = False
        self._lock = asyncio.Lock()

    @property
    def configured(self) -> bool:
        return bool(self._settings.image_connection or self._settings.image_account_url)

    def _service(self) -> BlobServiceClient:
        if self._client is None:
            if self._settings.image_connection:
                self._client = BlobServiceClient.from_connection_string(
                    self._settings.image_connection)
            else:
                from azure.identity.aio import DefaultAzureCredential

                self._client = BlobServiceClient(self._settings.image_account_url,
                                                 credential=DefaultAzureCredential())
        return self._client

    async def _container_ready(self) -> None:
        """Create the container on first use (Azurite starts empty; in Azure it exists)."""
        if self._ready:
            return
        async with self._lock:
            if not self._ready:
                with contextlib.suppress(ResourceExistsError):
                    await self._service().create_container(self._container_name)
                self._ready = True

    async def put(self, name: str, data: bytes, content_type: str) -> None:
        await self._container_ready()
        blob = self._service().get_blob_client(self._container_name, name)
        await blob.upload_blob(data, overwrite=True, content_settings=ContentSettings(
            content_type=content_type, cache_control=IMMUTABLE))

    async def get(self, name: str) -> tuple[bytes, str] | None:
        blob = self._service().get_blob_client(self._container_name, name)
        try:
            stream = await blob.download_blob()
        except ResourceNotFoundError:
            return None
        data = await stream.readall()
        return data, stream.properties.content_settings.content_type or "image/jpeg"

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
