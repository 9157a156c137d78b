"""The words of the SMS exchange in each language it speaks (pure). Service type names and
questions come from the catalog as written; dates and states as the notices say them
(``crm_bridge.notify.messages`` / ``messages_es``). A missing Spanish text falls back to
English, never to a key name."""

from __future__ import annotations

from datetime import date

from crm_bridge.notify import messages, messages_es

LANGUAGES = ("en", "es")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "menu": "{city} 311: what is the problem? Reply with its number, or a word such as "
                "pothole:\n{options}\nOr text a request number for its status. ES para "
                "español. HELP for help.",
        "pick": "Which one? Reply with its number:\n{options}",
        "no_match": "No request type matches \"{words}\". Reply with a number from the list "
                    "or another word:\n{options}",
        "chosen": "{name}.",
        "choose_one": "Reply with the number of one option:",
        "choose_many": "Reply with one or more numbers, e.g. 1 3:",
        "a_number": "Reply with a number.",
        "a_date": "Reply with the date and time, e.g. 2026-03-02 14:30.",
        "bad_answer": "Sorry, that is not an answer to this question.",
        "address": "Where is it? Reply with the street address, e.g. 120 Main St.",
        "address_long": "That address is too long. Reply with the street number and name.",
        "found": "Found: {address}.",
        "not_found": "We could not find \"{address}\" on the city's map, so we will send it "
                     "as you wrote it.",
        "photo": "Send a photo of the problem now, or reply SKIP.",
        "photo_again": "Send a photo (a picture message), or reply SKIP.",
        "opened": "Thank you. Your request number is {number} ({service}). Expected by "
                  "{expected}. Text the number any time for its status.",
        "refused": "Sorry, we could not take this request: {why}. Reply REPORT to start "
                   "again, or call 311.",
        "status": "{city} 311: request {number} ({service}) is {state}, handled by {agency}. "
                  "Expected by {expected}.",
        "status_closed": "{city} 311: request {number} ({service}) is closed. Resolution: "
                         "{resolution}",
        "no_ticket": "There is no request {number}. Check the number and text it again.",
        "bad_ticket": "{number} is not a request number: check the digits.",
        "help": "{city} 311: text a problem (e.g. pothole) to report it, or a request number "
                "for its status. ES para español. Reply STOP to stop texts, START to get them "
                "again. For an emergency call 911.",
        "started": "{city} 311: you will get our texts again. Text a problem to report it, or "
                   "a request number for its status.",
        "expired": "The report you started was not finished within {minutes} minutes, so it "
                   "was not sent.",
        "language": "We will text you in English.",
    },
    "es": {
        "menu": "311 de {city}: ¿cuál es el problema? Responda con su número o una palabra "
                "como pothole:\n{options}\nO envíe un número de solicitud para saber su "
                "estado. EN for English. AYUDA para ayuda.",
        "pick": "¿Cuál? Responda con su número:\n{options}",
        "no_match": "Ningún tipo de solicitud coincide con \"{words}\". Responda con un "
                    "número de la lista u otra palabra:\n{options}",
        "chosen": "{name}.",
        "choose_one": "Responda con el número de una opción:",
        "choose_many": "Responda con uno o más números, por ejemplo 1 3:",
        "a_number": "Responda con un número.",
        "a_date": "Responda con la fecha y la hora, por ejemplo 2026-03-02 14:30.",
        "bad_answer": "Perdón, esa no es una respuesta a esta pregunta.",
        "address": "¿Dónde está? Responda con la dirección, por ejemplo 120 Main St.",
        "address_long": "Esa dirección es demasiado larga. Responda con el número y la calle.",
        "found": "Encontrada: {address}.",
        "not_found": "No encontramos \"{address}\" en el mapa de la ciudad; la enviaremos "
                     "tal como la escribió.",
        "photo": "Envíe ahora una foto del problema, o responda SKIP.",
        "photo_again": "Envíe una foto (un mensaje con imagen), o responda SKIP.",
        "opened": "Gracias. Su número de solicitud es {number} ({service}). Fecha prevista: "
                  "{expected}. Envíe el número cuando quiera para saber su estado.",
        "refused": "Perdón, no pudimos tomar esta solicitud: {why}. Responda REPORT para "
                   "empezar de nuevo, o llame al 311.",
        "status": "311 de {city}: la solicitud {number} ({service}) está {state}; la atiende "
                  "{agency}. Fecha prevista: {expected}.",
        "status_closed": "311 de {city}: la solicitud {number} ({service}) está cerrada. "
                         "Resolución: {resolution}",
        "no_ticket": "No hay ninguna solicitud {number}. Revise el número y envíelo de nuevo.",
        "bad_ticket": "{number} no es un número de solicitud: revise los dígitos.",
        "help": "311 de {city}: envíe un problema (p. ej. pothole) para informarlo, o un "
                "número de solicitud para saber su estado. EN for English. Responda STOP "
                "para no recibir más mensajes, START para recibirlos otra vez. En una "
                "emergencia llame al 911.",
        "started": "311 de {city}: volverá a recibir nuestros mensajes. Envíe un problema "
                   "para informarlo, o un número de solicitud para saber su estado.",
        "expired": "La solicitud que empezó no se terminó en {minutes} minutos, así que no "
                   "se envió.",
        "language": "Le escribiremos en español.",
    },
}


def text(lang: str, key: str, **values: object) -> str:
    words = TEXTS.get(lang, {}).get(key) or TEXTS["en"][key]
    return words.format(**values) if values else words


def options(names: list[str]) -> str:
    """Numbered options, one a line: "1 Pothole"."""
    return "\n".join(f"{i} {name}" for i, name in enumerate(names, start=1))


def when(lang: str, d: date | None) -> str:
    """The promised date as the resident's notices say it."""
    return messages_es.when(d) if lang == "es" else messages.when(d)


def state(lang: str, words: str) -> str:
    """The lifecycle's plain words (``lifecycle.plain``) in the language."""
    return messages_es.STATES.get(words, words) if lang == "es" else words
