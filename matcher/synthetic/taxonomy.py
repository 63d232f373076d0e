"""Vocabulary of the synthetic world: domains with their skills, industries, zones, languages."""

from __future__ import annotations

DOMAIN_SKILLS: dict[str, tuple[str, ...]] = {
    "software engineering": ("python", "java", "system design", "code review", "testing", "git"),
    "data science": ("python", "statistics", "machine learning", "sql", "experimentation",
                     "visualisation"),
    "data engineering": ("sql", "spark", "airflow", "data modelling", "python", "streaming"),
    "machine learning": ("deep learning", "mlops", "python", "nlp", "computer vision",
                         "machine learning"),
    "product management": ("roadmapping", "user research", "prioritisation", "analytics",
                           "stakeholder management", "go-to-market"),
    "ux design": ("user research", "prototyping", "figma", "interaction design", "accessibility",
                  "usability testing"),
    "devops": ("kubernetes", "terraform", "ci/cd", "observability", "linux", "cloud"),
    "security": ("threat modelling", "pentesting", "cryptography", "incident response",
                 "compliance", "cloud"),
    "frontend": ("javascript", "react", "css", "accessibility", "typescript", "testing"),
    "mobile": ("swift", "kotlin", "react native", "app store", "ui performance", "testing"),
    "cloud architecture": ("aws", "azure", "gcp", "cost management", "networking", "cloud"),
    "marketing": ("seo", "content strategy", "brand", "paid acquisition", "analytics",
                  "copywriting"),
    "sales": ("negotiation", "prospecting", "crm", "account management", "pricing",
              "presentations"),
    "finance": ("financial modelling", "accounting", "valuation", "budgeting", "excel",
                "risk management"),
    "entrepreneurship": ("fundraising", "pitching", "business models", "hiring",
                         "go-to-market", "negotiation"),
    "leadership": ("people management", "feedback", "hiring", "delegation", "coaching",
                   "strategy"),
    "career development": ("interviewing", "cv writing", "networking", "personal branding",
                           "negotiation", "public speaking"),
    "research": ("academic writing", "statistics", "grant writing", "literature review",
                 "peer review", "experimentation"),
    "healthcare": ("clinical practice", "public health", "health policy", "patient care",
                   "medical devices", "compliance"),
    "education": ("curriculum design", "teaching", "edtech", "assessment", "coaching",
                  "public speaking"),
    "law": ("contracts", "intellectual property", "compliance", "litigation", "privacy",
            "negotiation"),
    "operations": ("process improvement", "supply chain", "lean", "project management", "excel",
                   "vendor management"),
    "hr": ("recruiting", "compensation", "employee relations", "people analytics",
           "onboarding", "coaching"),
    "communications": ("public speaking", "writing", "media relations", "storytelling",
                       "crisis communication", "presentations"),
    "design": ("graphic design", "typography", "branding", "illustration", "figma",
               "motion design"),
    "hardware": ("embedded systems", "pcb design", "firmware", "signal processing", "testing",
                 "manufacturing"),
    "gaming": ("game design", "unity", "c++", "level design", "monetisation", "testing"),
    "sustainability": ("climate policy", "esg reporting", "energy systems", "lifecycle analysis",
                       "strategy", "compliance"),
    "public sector": ("policy analysis", "procurement", "stakeholder management",
                      "public speaking", "grant writing", "project management"),
    "consulting": ("problem structuring", "presentations", "excel", "strategy",
                   "client management", "storytelling"),
}
DOMAINS = tuple(DOMAIN_SKILLS)

INDUSTRIES = ("technology", "finance", "healthcare", "education", "retail", "manufacturing",
              "government", "media", "energy", "consulting", "non-profit", "telecom")

# (zone, weight, regional language or None)
TIMEZONES: tuple[tuple[str, float, str | None], ...] = (
    ("Europe/London", 10, None), ("Europe/Berlin", 8, "German"), ("Europe/Paris", 6, "French"),
    ("Europe/Madrid", 4, "Spanish"), ("Europe/Warsaw", 3, "Polish"),
    ("America/New_York", 12, None), ("America/Chicago", 6, None),
    ("America/Los_Angeles", 8, None), ("America/Sao_Paulo", 4, "Portuguese"),
    ("America/Mexico_City", 3, "Spanish"), ("Asia/Kolkata", 8, "Hindi"),
    ("Asia/Singapore", 3, None), ("Asia/Tokyo", 3, "Japanese"),
    ("Australia/Sydney", 3, None), ("Australia/Adelaide", 1, None),
    ("Africa/Lagos", 3, None), ("Africa/Nairobi", 2, "Swahili"), ("Asia/Kathmandu", 1, "Nepali"),
)
STYLES = ("hands-on", "socratic", "structured", "casual")
EXPERIENCE_LEVEL_YEARS = {"student": 0.0, "junior": 2.0, "mid": 5.0, "senior": 9.0}
