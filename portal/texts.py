"""The portal's words in each language it speaks (pure). A missing Spanish text falls back
to English, never to a key name."""

from __future__ import annotations

from datetime import date

LANGUAGES = ("en", "es")
NAMES = {"en": "English", "es": "Español"}

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "{city} 311",
        "skip": "Skip to the main content",
        "intro": "Report a problem to the city, or check a request you made. No account needed.",
        "report_heading": "Report a problem",
        "find_type": "What is the problem?",
        "find_type_hint": "Type a word such as pothole, trash or noise",
        "search": "Search",
        "no_types": "No request type matches. Try another word or pick from the list.",
        "check_heading": "Check a request",
        "number": "Request number",
        "check": "Check",
        "nearby_heading": "Requests near an address",
        "address": "Address",
        "address_hint": "Street number and name, for example 120 Main St",
        "show_nearby": "Show requests nearby",
        "details": "Describe the problem",
        "questions": "About the problem",
        "where": "Where is it?",
        "map_label": "Map: tap or click to place a pin at the problem",
        "map_unavailable": "The map could not be loaded. Type the address instead.",
        "pin_set": "Pin placed. The nearest address was filled in.",
        "photo": "Photo (optional)",
        "photo_hint": "JPEG, PNG or WebP, up to {mb} MB",
        "contact": "Your contact (optional)",
        "email": "E-mail, for a confirmation and updates",
        "phone": "Phone",
        "first_name": "First name",
        "last_name": "Last name",
        "send": "Send the request",
        "required": "required",
        "choose": "Choose one",
        "problems": "Please correct the following:",
        "received": "Your request has been received",
        "your_number": "Your request number is",
        "keep_number": "Keep this number to check your request on this site or by calling 311.",
        "promised": "Expected to be handled by",
        "status_heading": "Request {number}",
        "type": "Type",
        "agency": "Department",
        "state": "Status",
        "expected": "Expected by",
        "resolution": "Resolution",
        "not_found": "There is no request with that number.",
        "bad_number": "That is not a valid request number: check the digits.",
        "not_done_heading": "Work not done?",
        "not_done_intro": "If the problem is still there, tell us within {days} days of closing "
                          "and the request will be reopened and reviewed by a supervisor.",
        "contact_check": "The e-mail or phone number you gave with the request",
        "what_is_wrong": "What is still wrong?",
        "reopen": "Reopen the request",
        "reopened": "Your request was reopened. A supervisor will review it.",
        "window_over": "The time to reopen this request has passed. Please make a new request.",
        "nearby_none": "No requests near this address in the last 90 days.",
        "address_unknown": "We could not find that address. Did you mean:",
        "address_none": "We could not find that address.",
        "distance": "{m} m away",
        "requested": "Requested",
        "back": "Back to the start",
        "language": "Language",
        "categories": "All request types",
        "sla": "Usually handled within {sla}",
        "photo_bad": "The photo must be a JPEG, PNG or WebP image.",
        "photo_big": "The photo is larger than {mb} MB.",
        "district": "District",
        "other": "Other",
        "answer_check": "Check your answer to: {question}",
    },
    "es": {
        "title": "311 de {city}",
        "skip": "Ir al contenido principal",
        "intro": "Informe un problema a la ciudad o consulte una solicitud que hizo. "
                 "No necesita una cuenta.",
        "report_heading": "Informar un problema",
        "find_type": "¿Cuál es el problema?",
        "find_type_hint": "Escriba una palabra como bache, basura o ruido",
        "search": "Buscar",
        "no_types": "Ningún tipo de solicitud coincide. Pruebe otra palabra o elija de la lista.",
        "check_heading": "Consultar una solicitud",
        "number": "Número de solicitud",
        "check": "Consultar",
        "nearby_heading": "Solicitudes cerca de una dirección",
        "address": "Dirección",
        "address_hint": "Número y nombre de la calle, por ejemplo 120 Main St",
        "show_nearby": "Ver solicitudes cercanas",
        "details": "Describa el problema",
        "questions": "Sobre el problema",
        "where": "¿Dónde está?",
        "map_label": "Mapa: toque o haga clic para marcar el lugar del problema",
        "map_unavailable": "No se pudo cargar el mapa. Escriba la dirección.",
        "pin_set": "Marcador colocado. Se completó la dirección más cercana.",
        "photo": "Foto (opcional)",
        "photo_hint": "JPEG, PNG o WebP, hasta {mb} MB",
        "contact": "Sus datos de contacto (opcional)",
        "email": "Correo electrónico, para una confirmación y novedades",
        "phone": "Teléfono",
        "first_name": "Nombre",
        "last_name": "Apellido",
        "send": "Enviar la solicitud",
        "required": "obligatorio",
        "choose": "Elija una opción",
        "problems": "Corrija lo siguiente:",
        "received": "Recibimos su solicitud",
        "your_number": "Su número de solicitud es",
        "keep_number": "Guarde este número para consultar su solicitud aquí o llamando al 311.",
        "promised": "Se espera atenderla antes del",
        "status_heading": "Solicitud {number}",
        "type": "Tipo",
        "agency": "Departamento",
        "state": "Estado",
        "expected": "Fecha prevista",
        "resolution": "Resolución",
        "not_found": "No hay ninguna solicitud con ese número.",
        "bad_number": "Ese número de solicitud no es válido: revise los dígitos.",
        "not_done_heading": "¿No se hizo el trabajo?",
        "not_done_intro": "Si el problema sigue, avísenos dentro de los {days} días posteriores "
                          "al cierre y la solicitud se reabrirá y la revisará un supervisor.",
        "contact_check": "El correo o el teléfono que dio con la solicitud",
        "what_is_wrong": "¿Qué sigue mal?",
        "reopen": "Reabrir la solicitud",
        "reopened": "Su solicitud se reabrió. Un supervisor la revisará.",
        "window_over": "Ya pasó el plazo para reabrir esta solicitud. Haga una nueva solicitud.",
        "nearby_none": "No hay solicitudes cerca de esta dirección en los últimos 90 días.",
        "address_unknown": "No encontramos esa dirección. ¿Quiso decir:",
        "address_none": "No encontramos esa dirección.",
        "distance": "a {m} m",
        "requested": "Solicitada",
        "back": "Volver al inicio",
        "language": "Idioma",
        "categories": "Todos los tipos de solicitud",
        "sla": "Normalmente se atiende en {sla}",
        "photo_bad": "La foto debe ser una imagen JPEG, PNG o WebP.",
        "photo_big": "La foto pesa más de {mb} MB.",
        "district": "Distrito",
        "other": "Otros",
        "answer_check": "Revise su respuesta a: {question}",
    },
}
# the lifecycle's plain words (crm_bridge.tickets.lifecycle.plain) and SLA units, in Spanish
STATES_ES = {"received": "recibida", "acknowledged": "recibida y revisada",
             "in progress": "en curso", "on hold": "en espera", "closed": "cerrada",
             "reopened": "reabierta", "assigned": "asignada", "new": "nueva"}
SLA_ES = {"business day": "día hábil", "business days": "días hábiles",
          "business hour": "hora hábil", "business hours": "horas hábiles",
          "day": "día", "days": "días"}
MONTHS_ES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
             "septiembre", "octubre", "noviembre", "diciembre")
DAYS_ES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")


def pick(requested: str | None, accept: list[str]) -> str:
    """The language to speak: the one asked for, else the browser's first we speak, else en."""
    if requested in LANGUAGES:
        return requested
    for tag in accept:
        base = tag.split("-")[0].lower()
        if base in LANGUAGES:
            return base
    return "en"


def text(lang: str, key: str, **values: object) -> str:
    words = TEXTS.get(lang, {}).get(key) or TEXTS["en"][key]
    return words.format(**values) if values else words


def state(lang: str, words: str) -> str:
    return STATES_ES.get(words, words) if lang == "es" else words


def sla(lang: str, words: str) -> str:
    """``"10 business days"`` in the language."""
    if lang != "es":
        return words
    n, _, unit = words.partition(" ")
    return f"{n} {SLA_ES.get(unit, unit)}"


def long_date(lang: str, d: date) -> str:
    if lang == "es":
        return f"{DAYS_ES[d.weekday()]} {d.day} de {MONTHS_ES[d.month - 1]} de {d.year}"
    return d.strftime("%A, %B %-d, %Y")
