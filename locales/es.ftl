# Las páginas, páginas de error, mensajes de formulario y notificaciones
# predeterminadas en español. Los mismos mensajes y variables que en.ftl;
# solo texto.

## Distintivos

badge-awaiting = Esperando respuesta
badge-confirm = Confirme, por favor
badge-sign-in-needed = Inicio de sesión necesario
badge-for-systems = Para sistemas
badge-done = Hecho
badge-already-answered = Ya respondida
badge-expired = Caducado
badge-invalid-link = Enlace no válido
badge-busy = Ocupado
badge-not-sent = No enviado
badge-not-allowed = No permitido
badge-not-signed-in = Sesión no iniciada

## Antes de actuar

lead-open = Esta solicitud sigue esperando una respuesta. Revise los detalles y pulse el botón.
lead-open-choices = Esta solicitud sigue esperando una respuesta. Revise los detalles y pulse el botón que elija.
lead-unknown = Revise los detalles y pulse el botón. Si la solicitud ya se respondió o se cerró, la página siguiente se lo indicará y no cambiará nada.
lead-unknown-choices = Revise los detalles y pulse el botón que elija. Si la solicitud ya se respondió o se cerró, la página siguiente se lo indicará y no cambiará nada.

## Página de confirmación

page-confirm-title = Confirmar: { $action }
page-button-heartbeat = Enviar un heartbeat
page-button-confirm = Confirmar: { $action }
page-field-action = Acción
page-field-expires = El enlace caduca
page-signed-in-as = Sesión iniciada como { $who }
page-comment = Comentario
page-comment-optional = Comentario (opcional)
page-comment-limit =
    { $max ->
        [one] (hasta { $max } carácter)
       *[other] (hasta { $max } caracteres)
    }

## Página de revisión

page-review-title = Revisar y decidir
page-review-named-approvers = Algunas opciones son solo para aprobadores designados.
page-sign-in-to-continue = Iniciar sesión para continuar
page-choice-sign-in-first = Solo los aprobadores designados pueden elegir esta opción: inicie sesión primero.
page-refusal-not-an-approver = { $who } no figura entre los aprobadores.
page-refusal-requester = { $who } solicitó esta decisión, así que debe tomarla otra persona.
page-refusal-someone = La persona que ha iniciado sesión

## Página de inicio de sesión

page-sign-in-lead = Esta solicitud es para aprobadores designados. Inicie sesión para ver con qué cuenta ha entrado y después confirme.
page-sign-in-lead-open = Esta solicitud es para aprobadores designados. Inicie sesión para ver con qué cuenta ha entrado y después confirme. Sigue esperando una respuesta.

## Enlace de una acción POST abierto en un navegador

page-systems-title = Este enlace es para sistemas
page-systems-lead = La acción { $action } la responde un programa que envía un POST con un cuerpo JSON a esta URL. Abrirla en un navegador no tiene ningún efecto.

## Después de responder

page-accepted-title = ¡Respuesta aceptada!
page-accepted-lead = Su respuesta { $response } se ha registrado. Puede cerrar esta página.
page-your-comment = Su comentario:
page-transaction = Transacción { $id }
page-support = Para el soporte: acción { $action } ({ $type })
page-support-transaction = Para el soporte: acción { $action } ({ $type }), transacción { $id }
page-requested-by = Solicitado por { $who }

## Páginas de error

error-already-answered-title = Esta solicitud ya se respondió
error-already-answered-advice = Alguien ya respondió, o la tarea terminó o se agotó su tiempo. No se ha cambiado nada.
error-expired-title = Este enlace ha caducado
error-expired-advice = Pida uno nuevo a quien se lo envió. No se ha cambiado nada.
error-expired-when = Caducó el { $when }.
error-invalid-link-title = Este enlace no es válido
error-invalid-link-advice = Puede que se haya cortado o modificado por el camino. Abra el mensaje original y use el enlace completo. No se ha cambiado nada.
error-busy-title = Vuelva a intentarlo en un momento
error-busy-advice = El servicio no ha podido conectar con AWS en este momento. Su enlace sigue funcionando: vuelva atrás y pulse el botón de nuevo.
error-slack-busy-advice = Slack no ha podido indicar quién pulsó en este momento, así que no se envió nada. Vuelva a pulsar el botón en un momento.
error-provider-busy-advice = No se ha podido conectar con el servicio de inicio de sesión en este momento, así que no se envió nada. Su enlace sigue funcionando: vuelva a abrirlo en un momento.
error-too-many-title = Demasiadas solicitudes
error-too-many-advice = Este navegador ha hecho demasiadas solicitudes en poco tiempo. No se ha cambiado nada. Espere un minuto y vuelva a abrir el enlace.
error-bad-comment-title = Revise su comentario
error-bad-comment-advice = Vuelva atrás, cambie el comentario y envíelo de nuevo. No se ha cambiado nada.
error-bad-form-title = Revise el formulario
error-not-an-approver-title = No puede responder a esta solicitud
error-not-an-approver-advice = Este enlace es para aprobadores designados, y la persona que ha iniciado sesión no puede responderlo. No se ha cambiado nada.
error-sign-in-required-title = Inicie sesión primero
error-sign-in-required-advice = Este enlace es para aprobadores designados. Ábralo de nuevo para iniciar sesión. No se ha cambiado nada.
error-sign-in-failed-title = No se completó el inicio de sesión
error-sign-in-failed-advice = No se ha cambiado nada. Vuelva a abrir el enlace del mensaje original para intentarlo de nuevo.
error-rejected-title = Respuesta rechazada
error-rejected-advice = No se ha cambiado nada.
error-sign-out = Cerrar sesión y usar otra cuenta
error-details = Para el soporte: { $message } ({ $code }, { $status })

## Formularios

form-optional = (opcional)
form-correct-fields = Su respuesta no se envió: corrija los campos marcados abajo y vuelva a pulsar el botón.
form-fields-to-change =
    { $count ->
        [one] Hay { $count } campo que corregir.
       *[other] Hay { $count } campos que corregir.
    }
form-yes = Sí
form-no = No
form-choose = Elija…
form-required = Este campo es obligatorio.
form-sent-twice = Este campo se envió más de una vez.
form-whole-number = Debe ser un número entero.
form-number = Debe ser un número.
form-min-length =
    { $min ->
        [one] Debe tener al menos { $min } carácter.
       *[other] Debe tener al menos { $min } caracteres.
    }
form-max-length =
    { $max ->
        [one] Debe tener como máximo { $max } carácter.
       *[other] Debe tener como máximo { $max } caracteres.
    }
form-pattern = No tiene el formato esperado.
form-choice = Debe ser una de las opciones.
form-email = Debe ser una dirección de correo electrónico.
form-date = Debe ser una fecha (AAAA-MM-DD).
form-date-time = Debe ser una fecha y hora con su desfase horario.
form-uri = Debe ser una dirección absoluta (https://...).
form-minimum = Debe ser como mínimo { $min }.
form-maximum = Debe ser como máximo { $max }.
form-multiple-of = Debe ser un múltiplo de { $step }.
form-boolean = Debe ser verdadero o falso.
form-text = Debe ser texto.
form-unfit = No se ajusta al formulario ({ $keyword }).
form-unknown-field = «{ $name }» no es un campo de este formulario.
form-values-unfit = Los valores no se ajustan al formulario ({ $keyword }).
form-not-an-object = Los valores del formulario deben ser un objeto JSON.
form-not-taken = Esta acción no tiene formulario.

## Notificación predeterminada

notify-subject = Se necesita su decisión
notify-waiting = Un flujo de trabajo espera su decisión.
notify-review = Revisar y decidir
notify-expires = Estos enlaces dejarán de funcionar el { $expiration }.

## Slack

slack-decided = { $action } elegido por { $who } · { $when }
slack-modal-title = Su respuesta
slack-modal-send = Enviar
slack-modal-cancel = Cancelar
slack-unconfirmed = El flujo de trabajo no confirmó la respuesta a tiempo, así que puede que se haya registrado o no. Pulse el botón de nuevo para saberlo: una respuesta nunca se registra dos veces.
slack-not-a-link = Este botón no contiene un enlace que este servicio pueda abrir. No se ha cambiado nada.
slack-heartbeat-sent = Latido enviado: el flujo de trabajo sabe que la tarea sigue en curso. No se ha decidido nada.
