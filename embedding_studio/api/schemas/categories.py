"""Query parsing into categories: request and response."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator


class CategoriesRequest(BaseModel):
    query: str | dict[str, Any] = Field(
        ..., description="A plain string, or the categories plugin's query object"
    )
    plugin_name: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="The categories plugin to use; the blue categories collection's when omitted",
    )

    @field_validator("query")
    @classmethod
    def _not_blank(cls, value: str | dict[str, Any]) -> str | dict[str, Any]:
        if isinstance(value, str) and not value.strip():
            raise ValueError("query: give a non-empty text (or the plugin's query object)")
        return value


class CategoryResponse(BaseModel):
    object_id: str
    distance: float = Field(..., description="Distance to the query in the collection's metric")
    confidence: float = Field(..., ge=0, le=1, description="The selector's confidence")
    payload: dict[str, Any] | None = None


class CategoriesResponse(BaseModel):
    categories: list[CategoryResponse] = Field(
        ..., description="Selected categories, most confident first"
    )
    plugin_name: str
    embedding_model_id: str
