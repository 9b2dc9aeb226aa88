# Les pages, pages d’erreur, messages de formulaire et notifications par
# défaut en français. Mêmes messages et variables que en.ftl ; texte brut.

## Badges

badge-awaiting = En attente de réponse
badge-confirm = Veuillez confirmer
badge-sign-in-needed = Connexion requise
badge-for-systems = Pour les systèmes
badge-done = Terminé
badge-already-answered = Déjà répondu
badge-expired = Expiré
badge-invalid-link = Lien non valide
badge-busy = Occupé
badge-not-sent = Non envoyé
badge-not-allowed = Non autorisé
badge-not-signed-in = Non connecté

## Avant d’agir

lead-open = Cette demande attend toujours une réponse. Vérifiez les détails, puis appuyez sur le bouton.
lead-open-choices = Cette demande attend toujours une réponse. Vérifiez les détails, puis appuyez sur le bouton de votre choix.
lead-unknown = Vérifiez les détails, puis appuyez sur le bouton. Si la demande a déjà reçu une réponse ou a été close, la page suivante vous l’indiquera et rien ne changera.
lead-unknown-choices = Vérifiez les détails, puis appuyez sur le bouton de votre choix. Si la demande a déjà reçu une réponse ou a été close, la page suivante vous l’indiquera et rien ne changera.

## Page de confirmation

page-confirm-title = Confirmer : { $action }
page-button-heartbeat = Envoyer un heartbeat
page-button-confirm = Confirmer : { $action }
page-field-action = Action
page-field-expires = Expiration du lien
page-signed-in-as = Connecté en tant que { $who }
page-comment = Commentaire
page-comment-optional = Commentaire (facultatif)
page-comment-limit =
    { $max ->
        [one] ({ $max } caractère au maximum)
       *[other] ({ $max } caractères au maximum)
    }

## Page de décision

page-review-title = Examiner et décider
page-review-named-approvers = Certains choix sont réservés à des approbateurs désignés.
page-sign-in-to-continue = Se connecter pour continuer
page-choice-sign-in-first = Seuls des approbateurs désignés peuvent faire ce choix : connectez-vous d’abord.
page-refusal-not-an-approver = { $who } ne fait pas partie des approbateurs.
page-refusal-requester = { $who } a demandé cette décision ; quelqu’un d’autre doit donc la prendre.
page-refusal-someone = La personne connectée

## Page de connexion

page-sign-in-lead = Cette demande est destinée à des approbateurs désignés. Connectez-vous pour voir sous quelle identité vous êtes connecté, puis confirmez.
page-sign-in-lead-open = Cette demande est destinée à des approbateurs désignés. Connectez-vous pour voir sous quelle identité vous êtes connecté, puis confirmez. Elle attend toujours une réponse.

## Lien d’une action POST ouvert dans un navigateur

page-systems-title = Ce lien est destiné aux systèmes
page-systems-lead = L’action { $action } reçoit sa réponse d’un programme qui envoie un POST avec un corps JSON à cette URL. L’ouvrir dans un navigateur n’a aucun effet.

## Après la réponse

page-accepted-title = Réponse acceptée !
page-accepted-lead = Votre réponse { $response } a été enregistrée. Vous pouvez fermer cette page.
page-your-comment = Votre commentaire :
page-transaction = Transaction { $id }
page-support = Pour l’assistance : action { $action } ({ $type })
page-support-transaction = Pour l’assistance : action { $action } ({ $type }), transaction { $id }
page-requested-by = Demandé par { $who }

## Pages d’erreur

error-already-answered-title = Cette demande a déjà reçu une réponse
error-already-answered-advice = Quelqu’un a déjà répondu, ou la tâche est terminée ou a expiré. Rien n’a été modifié.
error-expired-title = Ce lien a expiré
error-expired-advice = Demandez-en un nouveau à la personne qui vous l’a envoyé. Rien n’a été modifié.
error-expired-when = Il a expiré le { $when }.
error-invalid-link-title = Ce lien n’est pas valide
error-invalid-link-advice = Il a peut-être été tronqué ou modifié en chemin. Ouvrez le message d’origine et utilisez le lien complet. Rien n’a été modifié.
error-busy-title = Veuillez réessayer dans un instant
error-busy-advice = Le service n’a pas pu joindre AWS pour le moment. Votre lien fonctionne toujours : revenez en arrière et appuyez de nouveau sur le bouton.
error-slack-busy-advice = Slack n’a pas pu indiquer qui a appuyé pour le moment ; rien n’a donc été envoyé. Appuyez de nouveau sur le bouton dans un instant.
error-provider-busy-advice = Le service de connexion n’a pas pu être joint pour le moment ; rien n’a donc été envoyé. Votre lien fonctionne toujours : rouvrez-le dans un instant.
error-too-many-title = Trop de requêtes
error-too-many-advice = Ce navigateur a envoyé trop de requêtes en peu de temps. Rien n’a été modifié. Attendez une minute, puis rouvrez le lien.
error-bad-comment-title = Veuillez vérifier votre commentaire
error-bad-comment-advice = Revenez en arrière, modifiez le commentaire et envoyez-le de nouveau. Rien n’a été modifié.
error-bad-form-title = Veuillez vérifier le formulaire
error-not-an-approver-title = Vous ne pouvez pas répondre à cette demande
error-not-an-approver-advice = Ce lien est destiné à des approbateurs désignés, et la personne connectée n’est pas autorisée à y répondre. Rien n’a été modifié.
error-sign-in-required-title = Veuillez d’abord vous connecter
error-sign-in-required-advice = Ce lien est destiné à des approbateurs désignés. Ouvrez-le de nouveau pour vous connecter. Rien n’a été modifié.
error-sign-in-failed-title = La connexion n’a pas abouti
error-sign-in-failed-advice = Rien n’a été modifié. Ouvrez de nouveau le lien du message d’origine pour réessayer.
error-rejected-title = Réponse refusée
error-rejected-advice = Rien n’a été modifié.
error-sign-out = Se déconnecter et utiliser un autre compte
error-details = Pour l’assistance : { $message } ({ $code }, { $status })

## Formulaires

form-optional = (facultatif)
form-correct-fields = Votre réponse n’a pas été envoyée : veuillez corriger les champs signalés ci-dessous, puis appuyer de nouveau sur le bouton.
form-fields-to-change =
    { $count ->
        [one] { $count } champ doit être modifié.
       *[other] { $count } champs doivent être modifiés.
    }
form-yes = Oui
form-no = Non
form-choose = Choisissez…
form-required = Ce champ est obligatoire.
form-sent-twice = Ce champ a été envoyé plusieurs fois.
form-whole-number = Doit être un nombre entier.
form-number = Doit être un nombre.
form-min-length =
    { $min ->
        [one] Doit comporter au moins { $min } caractère.
       *[other] Doit comporter au moins { $min } caractères.
    }
form-max-length =
    { $max ->
        [one] Doit comporter au plus { $max } caractère.
       *[other] Doit comporter au plus { $max } caractères.
    }
form-pattern = N’a pas la forme attendue.
form-choice = Doit être l’un des choix proposés.
form-email = Doit être une adresse e-mail.
form-date = Doit être une date (AAAA-MM-JJ).
form-date-time = Doit être une date et une heure avec leur décalage horaire.
form-uri = Doit être une adresse absolue (https://...).
form-minimum = Doit être au moins { $min }.
form-maximum = Doit être au plus { $max }.
form-multiple-of = Doit être un multiple de { $step }.
form-boolean = Doit être vrai ou faux.
form-text = Doit être du texte.
form-unfit = Ne correspond pas au formulaire ({ $keyword }).
form-unknown-field = « { $name } » n’est pas un champ de ce formulaire.
form-values-unfit = Les valeurs ne correspondent pas au formulaire ({ $keyword }).
form-not-an-object = Les valeurs du formulaire doivent être un objet JSON.
form-not-taken = Cette action ne comporte pas de formulaire.

## Notification par défaut

notify-subject = Votre décision est requise
notify-waiting = Un workflow attend votre décision.
notify-review = Examiner et décider
notify-expires = Ces liens cesseront de fonctionner le { $expiration }.

## Slack

slack-decided = { $action } choisi par { $who } · { $when }
slack-modal-title = Votre réponse
slack-modal-send = Envoyer
slack-modal-cancel = Annuler
slack-unconfirmed = Le workflow n’a pas confirmé la réponse à temps : elle a peut-être été enregistrée, peut-être pas. Appuyez de nouveau sur le bouton pour le savoir : une réponse n’est jamais enregistrée deux fois.
slack-not-a-link = Ce bouton ne contient pas de lien que ce service peut ouvrir. Rien n’a été modifié.
slack-heartbeat-sent = Signal envoyé : le workflow sait que la tâche est toujours en cours. Rien n’a été décidé.
