"""The page ``kit new`` writes: kit/pages/starter.toml, its comments for the founder (in
English, like the dashboard) and its visitor-facing sentences in the page's language."""

from __future__ import annotations

import re
from pathlib import Path

STARTER_PATH = Path(__file__).with_name("starter.toml")

# The starter's sentences per language ({title}: the product's name, from the page's slug),
# the commented examples' too: uncommented, they are in the page's language.
STARTERS: dict[str, dict[str, str]] = {
    "en": {
        "join": "join the waitlist",
        "headline": "The one-line promise of {title}",
        "subheadline": "One sentence on who it's for and why it matters.",
        "cta": "Join the waitlist",
        "thanks": "Thanks, you're on the list! We'll write when it's ready.",
        "benefit_1": "First benefit",
        "benefit_1_text": "Why it matters to the visitor.",
        "benefit_2": "Second benefit",
        "benefit_2_text": "Keep it short and concrete.",
        "description": "One or two sentences for search results and link previews.",
        "hero_alt": "What the image shows",
        "faq_question": "When does it launch?",
        "faq_answer": "Soon. Waitlist members get in first.",
        "quote": "I'd pay for this today.",
        "role": "Early tester",
        "price": "$49 once",
        "question_example": "What would you pay per month?",
        "question_unit": "$ per month",
        "question_options": '["Nothing", "$5", "$10+"]',
        "consent_example": "I agree to receive e-mails about ...",
        "checkout_label": "Pre-order",
        "other_headline": "A different promise",
    },
    "de": {
        "join": "trag dich in die Warteliste ein",
        "headline": "Das Versprechen von {title} in einem Satz",
        "subheadline": "Ein Satz dazu, für wen es ist und warum es zählt.",
        "cta": "Auf die Warteliste",
        "thanks": "Danke, du stehst auf der Liste! Wir melden uns, sobald es so weit ist.",
        "benefit_1": "Erster Vorteil",
        "benefit_1_text": "Warum er für deine Besucher zählt.",
        "benefit_2": "Zweiter Vorteil",
        "benefit_2_text": "Kurz und konkret.",
        "description": "Ein oder zwei Sätze für Suchergebnisse und Link-Vorschauen.",
        "hero_alt": "Was das Bild zeigt",
        "faq_question": "Wann geht es los?",
        "faq_answer": "Bald. Wer auf der Warteliste steht, ist zuerst dabei.",
        "quote": "Dafür würde ich heute schon zahlen.",
        "role": "Testet seit der ersten Version",
        "price": "49 € einmalig",
        "question_example": "Was würdest du pro Monat zahlen?",
        "question_unit": "€ pro Monat",
        "question_options": '["Nichts", "5 €", "10 € oder mehr"]',
        "consent_example": "Ich möchte E-Mails zu ... erhalten",
        "checkout_label": "Vorbestellen",
        "other_headline": "Ein anderes Versprechen",
    },
    "fr": {
        "join": "rejoignez la liste d’attente",
        "headline": "La promesse de {title} en une phrase",
        "subheadline": "Une phrase sur le public visé et pourquoi c’est important.",
        "cta": "Rejoindre la liste d’attente",
        "thanks": "Merci, vous êtes sur la liste\u00a0! Nous vous écrirons dès que ce sera prêt.",
        "benefit_1": "Premier avantage",
        "benefit_1_text": "Pourquoi il compte pour vos visiteurs.",
        "benefit_2": "Deuxième avantage",
        "benefit_2_text": "Restez bref et concret.",
        "description": "Une ou deux phrases pour les résultats de recherche et les aperçus.",
        "hero_alt": "Ce que montre l’image",
        "faq_question": "Quand aura lieu le lancement\u00a0?",
        "faq_answer": "Bientôt. Les inscrits sur la liste d’attente y ont accès en premier.",
        "quote": "Je paierais pour ça dès aujourd’hui.",
        "role": "Testeur de la première heure",
        "price": "49 € une fois",
        "question_example": "Combien paieriez-vous par mois\u00a0?",
        "question_unit": "€ par mois",
        "question_options": '["Rien", "5 €", "10 € ou plus"]',
        "consent_example": "J’accepte de recevoir des e-mails concernant ...",
        "checkout_label": "Précommander",
        "other_headline": "Une autre promesse",
    },
    "es": {
        "join": "únete a la lista de espera",
        "headline": "La promesa de {title} en una frase",
        "subheadline": "Una frase sobre para quién es y por qué importa.",
        "cta": "Unirme a la lista de espera",
        "thanks": "¡Gracias, ya estás en la lista! Te escribiremos cuando esté listo.",
        "benefit_1": "Primera ventaja",
        "benefit_1_text": "Por qué le importa a quien te visita.",
        "benefit_2": "Segunda ventaja",
        "benefit_2_text": "Breve y concreta.",
        "description": "Una o dos frases para los buscadores y las vistas previas de enlaces.",
        "hero_alt": "Lo que muestra la imagen",
        "faq_question": "¿Cuándo se lanza?",
        "faq_answer": "Pronto. Quienes están en la lista de espera entran primero.",
        "quote": "Pagaría por esto hoy mismo.",
        "role": "Probó la primera versión",
        "price": "49 € pago único",
        "question_example": "¿Cuánto pagarías al mes?",
        "question_unit": "€ al mes",
        "question_options": '["Nada", "5 €", "10 € o más"]',
        "consent_example": "Acepto recibir correos sobre ...",
        "checkout_label": "Reservar",
        "other_headline": "Otra promesa",
    },
    "pt-BR": {
        "join": "entre na lista de espera",
        "headline": "A promessa de {title} em uma frase",
        "subheadline": "Uma frase sobre para quem é e por que importa.",
        "cta": "Entrar na lista de espera",
        "thanks": "Obrigado, você está na lista! Vamos avisar quando estiver pronto.",
        "benefit_1": "Primeiro benefício",
        "benefit_1_text": "Por que ele importa para quem visita.",
        "benefit_2": "Segundo benefício",
        "benefit_2_text": "Seja breve e concreto.",
        "description": "Uma ou duas frases para resultados de busca e prévias de links.",
        "hero_alt": "O que a imagem mostra",
        "faq_question": "Quando será o lançamento?",
        "faq_answer": "Em breve. Quem está na lista de espera entra primeiro.",
        "quote": "Eu pagaria por isso hoje mesmo.",
        "role": "Testou a primeira versão",
        "price": "R$ 49 pagamento único",
        "question_example": "Quanto você pagaria por mês?",
        "question_unit": "R$ por mês",
        "question_options": '["Nada", "R$ 5", "R$ 10 ou mais"]',
        "consent_example": "Aceito receber e-mails sobre ...",
        "checkout_label": "Comprar na pré-venda",
        "other_headline": "Uma promessa diferente",
    },
    "it": {
        "join": "entra nella lista d’attesa",
        "headline": "La promessa di {title} in una frase",
        "subheadline": "Una frase su a chi si rivolge e perché conta.",
        "cta": "Entra nella lista d’attesa",
        "thanks": "Grazie, sei nella lista! Ti scriveremo appena sarà pronto.",
        "benefit_1": "Primo vantaggio",
        "benefit_1_text": "Perché conta per chi visita.",
        "benefit_2": "Secondo vantaggio",
        "benefit_2_text": "Breve e concreto.",
        "description": "Una o due frasi per i risultati di ricerca e le anteprime dei link.",
        "hero_alt": "Cosa mostra l’immagine",
        "faq_question": "Quando sarà disponibile?",
        "faq_answer": "Presto. Chi è nella lista d’attesa entra per primo.",
        "quote": "Lo pagherei già oggi.",
        "role": "Ha provato la prima versione",
        "price": "49 € una tantum",
        "question_example": "Quanto pagheresti al mese?",
        "question_unit": "€ al mese",
        "question_options": '["Niente", "5 €", "10 € o più"]',
        "consent_example": "Accetto di ricevere e-mail su ...",
        "checkout_label": "Preordina",
        "other_headline": "Una promessa diversa",
    },
}


def starter_page(slug: str, hero_image: str = "", language: str = "en") -> str:
    """The commented starter page file for a new page, titled after its slug, in ``language``
    (one of ``STARTERS``); with ``hero_image`` (the picture `kit new` draws) it shows it."""
    title = slug.replace("-", " ").title()
    values = {"title": title, "language": language}
    values |= {key: value.format(title=title) for key, value in STARTERS[language].items()}
    text = STARTER_PATH.read_text(encoding="utf-8")
    text = re.sub(r"\{\{(\w+)\}\}", lambda match: values[match[1]], text)
    if hero_image:
        line = f"{f'hero_image = {hero_image!r}':<48} # drawn in your colours: swap in yours"
        text = re.sub(r"(?m)^# hero_image = .*$", line.replace("'", '"'), text)
    return re.sub(r"(?m)^(.*?\S) {2,}(# .*)$", _aligned, text)


def _aligned(line: re.Match) -> str:
    """A key and its comment with the comment in column 50, as far as the key leaves room."""
    return f"{line[1]:<48} {line[2]}"
