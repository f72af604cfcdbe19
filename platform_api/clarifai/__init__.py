"""The Clarifai v2 API: the official clients drive the platform's own services.

clarifai-grpc's JSON channel speaks REST (rest.py, under /v2/); the `clarifai` SDK speaks
gRPC (grpc_server.py, `manage.py grpc_server`). Both fronts call dispatch.call, which
authenticates the key and runs the RPC's handler:

    handlers_data.py, handlers_models.py   one function per RPC: (user, request) -> response
    messages.py, model_messages.py         rows -> clarifai-grpc messages
    status.py                              every status code answered, in one place
    namespace, concepts, inputs (+ input_checks), datasets (+ frozen_archive),
    model_types, models_service, predictions   the Clarifai side's rules; they call the
                                           platform's services (dataset import, submit_job,
                                           deployments) for everything else

See README "Using the Clarifai clients" and docs/API.md "Clarifai v2".
"""
