"""The baseline for bench/home.py: a bare strawberry query on FastAPI, nothing of Linli's."""

from __future__ import annotations

import strawberry
from fastapi import FastAPI
from strawberry.fastapi import GraphQLRouter


@strawberry.type
class Button:
    key: str
    label: str


@strawberry.type
class Query:
    @strawberry.field
    def home(self) -> list[Button]:
        return [Button(key=f"b{i}", label=f"button {i}") for i in range(6)]


app = FastAPI()
app.include_router(GraphQLRouter(strawberry.Schema(query=Query)), prefix="/graphql")
