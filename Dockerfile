FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends gettext && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY . .
RUN pip install --no-cache-dir . && python manage.py compilemessages --ignore=.venv
RUN DEBUG=false SECRET_KEY=build ALLOWED_HOSTS=build python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["uvicorn", "provplattform.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--proxy-headers"]
