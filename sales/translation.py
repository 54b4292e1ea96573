from modeltranslation.translator import TranslationOptions, register

from sales.models import Pack, VisitFormNode


@register(Pack)
class PackTranslation(TranslationOptions):
    fields = ("name", "description")


@register(VisitFormNode)
class VisitFormNodeTranslation(TranslationOptions):
    fields = ("label",)
